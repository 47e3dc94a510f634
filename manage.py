#!/usr/bin/env python
import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # Loading the settings first: a setting the environment got wrong is the operator's to fix,
        # so it is one line naming it, like a bad argument (contract 1), not a traceback.
        settings.INSTALLED_APPS  # noqa: B018
    except ImproperlyConfigured as error:
        sys.exit(f"{Path(sys.argv[0]).name}: error: {error}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
