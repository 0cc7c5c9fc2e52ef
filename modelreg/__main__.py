import sys

from modelreg.cli import main

sys.exit(main())
