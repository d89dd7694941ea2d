"""``python -m footy_testbed.standin``: run the stand-in API-Football / X / clip server."""

import sys

from footy_testbed.standin.server import main

sys.exit(main())
