"""The connected data stores' part of each request, registered into dsar's request hooks."""

from dsar.request_parts import RequestPartHandler, request_part_handler


def _parts_create(kind: str, request, subjects) -> None:
    from .services import parts_create, request_phones

    parts_create(
        request=request, kind=kind, subjects=list(subjects), phones=request_phones(request)
    )


@request_part_handler
class DataStores(RequestPartHandler):
    def erasure_started(self, *, request, subjects) -> None:
        _parts_create("erasure", request, subjects)

    def access_started(self, *, request, subjects) -> None:
        _parts_create("access", request, subjects)

    def completion_blockers(self, request) -> list[str]:
        from .services import parts_blockers

        return parts_blockers(request)

    def export_waits(self, request) -> list[str]:
        from .services import access_parts_waiting

        return access_parts_waiting(request)

    def export_sections(self, *, request, subjects):
        from .services import export_sections

        return export_sections(request=request)

    def exports_deleted(self, *, request) -> None:
        from .services import access_data_forget

        access_data_forget(request=request)
