"""`python -m bench.inbox`: see the package's docstring."""

import sys

from bench.inbox.run import main

sys.exit(main())
