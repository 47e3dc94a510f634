"""The settings the bench's server runs with: the production ones, plus the floor and two limits lifted.

`python -m bench` sets DJANGO_SETTINGS_MODULE to this module for everything it starts (migrate,
gunicorn, the in-process probes, the measured commands), with DEBUG off and its own database.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# The trigger target is the bench's own receiver on 127.0.0.1.
OUTBOUND_ALLOW_PRIVATE = True
# The bench measures the trigger endpoint, not the limiter refusing it.
ACTIONS_TRIGGER_RATE = "1000000/s"
