import sys

from flowschema.cli import main

sys.exit(main())
