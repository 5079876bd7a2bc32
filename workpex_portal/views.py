from django.shortcuts import render


def csrf_failure(request, reason=""):
    """A plain-language page for a refused form; the technical reason is not shown."""
    return render(request, "403_csrf.html", status=403)
