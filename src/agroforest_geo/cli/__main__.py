"""``python -m agroforest_geo.cli``."""

import sys

from . import main

sys.exit(main())
