import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Imported once the settings module is named: both read the settings.
from config.api.parsing import ChunkedBodies
from config.checks import at_server_start

application = ChunkedBodies(get_wsgi_application())

at_server_start()
