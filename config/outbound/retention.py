from config.outbound.services import webhook_payloads_purge
from config.purge import PurgeStep

PURGE_STEPS = [
    PurgeStep(kind="webhook_payloads", setting="RETAIN_WEBHOOK_PAYLOADS", purge=webhook_payloads_purge),
]
