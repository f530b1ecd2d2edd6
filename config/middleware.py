from django.http import HttpResponseBadRequest, JsonResponse


class RejectNulBytesMiddleware:
    """Answer 400 to a path or query string carrying a NUL byte.

    No real link carries one, and PostgreSQL refuses NUL inside string parameters, so a lookup such as
    `?round=%00` or `/releases/%00/` would otherwise fail as a server error instead of a bad request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            return HttpResponseBadRequest("The address contains a NUL byte.", content_type="text/plain")
        if "\x00" in request.META.get("QUERY_STRING", "") or any(
            "\x00" in value for values in request.GET.lists() for value in values[1]
        ):
            if request.path.startswith("/api/"):  # the API answers every error in JSON, naming the parameter
                named = [
                    name for name, values in request.GET.lists() if any("\x00" in v for v in [name, *values])
                ]
                errors = {name: ["Contains a NUL byte."] for name in named} or {"detail": ["NUL byte."]}
                return JsonResponse({"errors": errors}, status=400)
            return HttpResponseBadRequest("The query string contains a NUL byte.", content_type="text/plain")
        return self.get_response(request)
