from typing import Any

from config.accounts.encryption import UnreadableSecret
from config.accounts.services import webhook_secrets_reencrypt
from config.commands import OperatorCommand, Report


class Command(OperatorCommand):
    help = (
        "Re-encrypt every stored webhook secret under the first key of WEBHOOK_SECRET_KEYS. Put a new "
        "key first (keeping the old ones after it), run this, then drop the old keys. Prints how many "
        "services it re-encrypted."
    )
    refused = (UnreadableSecret,)

    def operate(self, **options: Any) -> Report:
        with self.progress("services re-encrypted") as on_progress:
            count = webhook_secrets_reencrypt(on_progress=on_progress)
        return Report(
            data={"services": count},
            lines=[f"{count} service{'' if count == 1 else 's'} re-encrypted under the first key"],
        )
