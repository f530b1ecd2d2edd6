"""How the API answers what it cannot serve: always JSON, naming the parameter at fault.

Every error is `{"errors": {name: [messages]}}`, where the name is the query parameter at fault
(`page`, `issue`, `updated_since`, ...) or `detail` for what no parameter caused (an unknown address,
a record that is not public, too many requests).
"""

from django.conf import settings
from django.http import JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import exception_handler


class ParameterError(exceptions.ValidationError):
    """A query parameter the API refuses: 400, with the parameter named."""

    def __init__(self, parameter: str, message: str):
        super().__init__({parameter: [message]})


class PageNotFound(exceptions.NotFound):
    """A page past the last: 404, naming `page`."""

    def __init__(self, message: str):
        super().__init__()
        self.detail = {"page": [exceptions.ErrorDetail(message, code="not_found")]}


def as_lists(detail) -> dict:
    if isinstance(detail, dict):
        return {
            str(name): [str(message) for message in (value if isinstance(value, list) else [value])]
            for name, value in detail.items()
        }
    if isinstance(detail, list):
        return {"detail": [str(message) for message in detail]}
    return {"detail": [str(detail)]}


def json_errors(exception, context):
    """DRF's exception handler, its answer reshaped to `{"errors": {...}}`."""
    response = exception_handler(exception, context)
    if response is not None:
        response.data = {"errors": as_lists(response.data)}
    return response


def not_found(request, *args, **kwargs):
    """Any other address under /api/: 404 as JSON, not the site's HTML page."""
    return JsonResponse({"errors": {"detail": ["No such address in the API."]}}, status=404)


class ClientThrottle(AnonRateThrottle):
    """DRF's per-client throttle (by address, counted in Django's cache), its rate read from the
    settings at each request (API_THROTTLE_RATE; None: no limit)."""

    def get_rate(self):
        return settings.API_THROTTLE_RATE

    def __init__(self):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        return super().allow_request(request, view)


class ErrorsSerializer(serializers.Serializer):
    """The body of every error: messages by the parameter at fault, or `detail`."""

    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


ERROR_RESPONSES = {
    status.HTTP_400_BAD_REQUEST: ErrorsSerializer,
    status.HTTP_404_NOT_FOUND: ErrorsSerializer,
    status.HTTP_429_TOO_MANY_REQUESTS: ErrorsSerializer,
}
