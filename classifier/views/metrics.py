"""`/metrics` for Prometheus: 404 unless METRICS_ENABLED; with METRICS_TOKEN set, only for
`Authorization: Bearer <token>`."""
import hmac

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from classifier import metrics as genreweb_metrics


@require_GET
def metrics(request):
    if not settings.METRICS_ENABLED:
        raise Http404
    if settings.METRICS_TOKEN:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                                 settings.METRICS_TOKEN.encode()):
            response = HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return HttpResponse(genreweb_metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
