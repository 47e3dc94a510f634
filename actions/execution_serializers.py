"""The widget family's bodies for action executions (contract 2): rendering and schema alike."""

from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from actions.models import ActionExecution, DeliveryMethod, DeliveryStatus, ExecutionKind, ExecutionResult
from actions.services.executions import CONTACT_METADATA_COLUMNS
from config.api.fields import Rfc3339Field, StrictCharField, StrictChoiceField, StrictIntegerField
from config.api.serializers import InputSerializer, OutputSerializer


class ContactMetadataSerializer(InputSerializer):
    # null means "not observed", the same as leaving the key out.
    deliveryStatus = StrictChoiceField(choices=DeliveryStatus.choices, required=False, allow_null=True)
    deliveryMethod = StrictChoiceField(choices=DeliveryMethod.choices, required=False, allow_null=True)
    signalSource = StrictCharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    networkStatus = StrictIntegerField(min_value=100, max_value=599, required=False, allow_null=True)
    submitToSignalMs = StrictIntegerField(min_value=0, max_value=86_400_000, required=False, allow_null=True)


@extend_schema_serializer(component_name="ContactMetadata")
class ContactMetadataOutput(ContactMetadataSerializer, OutputSerializer):
    # The posted keys as the execution keeps them, or null when none was observed.
    def to_representation(self, instance: ActionExecution) -> dict[str, Any] | None:  # type: ignore[override]
        metadata = {key: getattr(instance, column) for key, column in CONTACT_METADATA_COLUMNS.items()}
        return metadata if any(value is not None for value in metadata.values()) else None


class ActionProposalDataSerializer(OutputSerializer):
    executionId = serializers.UUIDField(source="id")
    conversationId = serializers.UUIDField(source="conversation_id")
    visitorId = serializers.CharField(source="visitor_id")
    kind = serializers.ChoiceField(choices=ExecutionKind.choices)
    label = serializers.CharField()  # type: ignore[assignment]
    targetUrl = serializers.CharField(source="target_url")
    params = serializers.DictField()


class ActionProposalSerializer(OutputSerializer):
    type = serializers.SerializerMethodField()
    id = serializers.UUIDField()
    data = ActionProposalDataSerializer(source="*")  # type: ignore[assignment]

    @extend_schema_field(serializers.ChoiceField(choices=["data-action-proposal"]))
    def get_type(self, execution: ActionExecution) -> str:
        return "data-action-proposal"


class ActionExecutionSerializer(ActionProposalDataSerializer):
    result = serializers.ChoiceField(choices=ExecutionResult.choices, allow_null=True)
    error = serializers.CharField(allow_null=True)
    contactMetadata = ContactMetadataOutput(source="*", allow_null=True)
    createdAt = Rfc3339Field(source="created_at")
    completedAt = Rfc3339Field(source="completed_at", allow_null=True)


class ActionResultAcceptedSerializer(OutputSerializer):
    ok = serializers.BooleanField()
    result = serializers.CharField()
