"""`python -m bench.dispatch`: see the package's docstring."""

import sys

from bench.dispatch.run import main

sys.exit(main())
