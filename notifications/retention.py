from config.purge import PurgeStep
from notifications.services import notifications_purge

PURGE_STEPS = [PurgeStep(kind="notifications", setting="RETAIN_NOTIFICATIONS", purge=notifications_purge)]
