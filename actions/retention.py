from actions.services.erasure import executions_purge
from config.retention import PurgeStep

PURGE_STEPS = [PurgeStep(kind="executions", setting="RETAIN_EXECUTIONS", purge=executions_purge)]
