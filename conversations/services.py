from config.accounts.models import Service
from conversations.allowlist import validate_patterns
from conversations.models import Bot


def bot_create(*, service: Service, name: str, allowed_targets: list[str]) -> Bot:
    return Bot.objects.create(service=service, name=name, allowed_targets=validate_patterns(allowed_targets))


def bot_set_allowlist(*, bot: Bot, allowed_targets: list[str]) -> Bot:
    bot.allowed_targets = validate_patterns(allowed_targets)
    bot.save(update_fields=["allowed_targets", "updated_at"])
    return bot
