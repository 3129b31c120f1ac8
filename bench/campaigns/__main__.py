"""`python -m bench.campaigns`: see the package's docstring."""

import sys

from bench.campaigns.run import main

sys.exit(main())
