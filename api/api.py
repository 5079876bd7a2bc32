"""The API object: version, authentication, errors as problem details, and the docs page.

The schema (OpenAPI 3.1) is public at /api/v1/openapi.json: it holds no data, and the calling
systems' tooling reads it. The interactive docs (Swagger UI, served from django-ninja's own
static files, never a CDN, so they work offline and under the portal's CSP) are for signed-in
staff with two-factor, through the admin site's gate."""

from django.contrib import admin
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

from .auth import ClientToken
from .endpoints import router
from .parts import router as parts_router
from .problems import handlers_install, openapi_problems
from .webhooks import router as webhooks_router

DESCRIPTION = """The Workpex Privacy Portal's API for the company's other systems: may this
person be contacted, record consent, read and change preferences, unsubscribe, file and
follow privacy requests, confirm a connected system's part of a request done, subscribe your
systems to webhooks. Authenticate with `Authorization: Bearer wpx_…` (a client created by a
privacy officer); each operation names the scope it needs. Errors are RFC 9457 problem details
(`application/problem+json`). Guide: docs/api.md."""


class PortalApi(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return openapi_problems(schema)


api = PortalApi(
    title="Workpex Privacy Portal API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=ClientToken(),
    docs_url=None,  # served by `docs` below, behind the staff gate; the schema stays public
)
handlers_install(api)
api.add_router("/", router)
api.add_router("/", parts_router)
api.add_router("/webhooks", webhooks_router)


@admin.site.admin_view
def docs(request):
    """Swagger UI for signed-in staff with two-factor (the admin site's own gate)."""
    return Swagger().render_page(request, api)
