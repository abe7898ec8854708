import sys

from services.notify.main import main

sys.exit(main())
