from actions.services.erasure import executions_purge
from config.purge import PurgeStep

PURGE_STEPS = [PurgeStep(kind="executions", setting="RETAIN_EXECUTIONS", purge=executions_purge)]
