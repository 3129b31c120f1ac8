"""python -m devstack run | test [pytest args]"""

import sys


def main() -> int:
    command, *rest = sys.argv[1:] or ["help"]
    if command == "run":
        from devstack.run import main as run

        return run()
    if command == "test":
        from devstack.testrun import main as test

        return test(rest)
    print("usage: python -m devstack run | test [pytest args]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
