from django.apps import AppConfig


class OutboundConfig(AppConfig):
    name = "config.outbound"
    label = "outbound"
    verbose_name = "Outbound delivery"
