"""A broken implementation: the reference, except that identity documents never expire."""

import sys

import aip._documents as documents
from aip.harness import main

documents._check_expiry = lambda *args: None  # the one check this implementation forgets
sys.exit(main())
