"""The connected data stores' part of each request, registered into dsar's request hooks."""

from dsar.request_parts import RequestPartHandler, request_part_handler


@request_part_handler
class DataStores(RequestPartHandler):
    def erasure_started(self, *, request, subjects) -> None:
        from .services import parts_create_for_erasure

        parts_create_for_erasure(request=request, subjects=list(subjects))

    def completion_blockers(self, request) -> list[str]:
        from .services import parts_blockers

        return parts_blockers(request)

    def export_sections(self, *, request, subjects):
        from .services import export_sections

        return export_sections(subjects=list(subjects))
