from django.core.exceptions import BadRequest


class QueryStringGuardMiddleware:
    """A NUL character in the query string is never meant: refuse it with the plain 400 page
    before any view hands it to a search or a filter (PostgreSQL cannot even compare text
    with NUL in it, so a search would end in a server error)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key or "\x00" in value for key, value in request.GET.items()):
            raise BadRequest("NUL in the query string")
        return self.get_response(request)
