"""The widget family's visitor erasure (contract 8): the path's visitor id in, the counts out."""

from rest_framework import serializers

from config.api.fields import StrictCharField
from config.api.serializers import InputSerializer, OutputSerializer


class VisitorPathSerializer(InputSerializer):
    # The visitorId of contract 2 (1 to 128 characters); the field refuses NUL too.
    visitorId = StrictCharField(min_length=1, max_length=128)


class ErasedCountsSerializer(OutputSerializer):
    executions = serializers.IntegerField(min_value=0)
    conversations = serializers.IntegerField(min_value=0)
    messages = serializers.IntegerField(min_value=0)


class VisitorErasedSerializer(OutputSerializer):
    visitorId = serializers.CharField()
    erased = ErasedCountsSerializer()
