"""`python -m aip_conformance` is `aip-conformance`."""

import sys

from .cli import main

sys.exit(main())
