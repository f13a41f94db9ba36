"""Dashboard: what the library holds and where the model hesitated."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from classifier import selectors
from classifier.models import Track

BAR_HEIGHT = 28
LABEL_WIDTH = 110
CHART_WIDTH = 480


def genre_chart(counts: list[dict], uncertain: int = 0) -> dict:
    """Geometry of a horizontal bar chart, drawn as inline SVG by the template. Tracks the model
    was unsure of get a bar of their own after the genres, instead of counting as their top guess."""
    if uncertain:
        counts = [*counts, {"genre": "uncertain", "count": uncertain, "uncertain": True}]
    largest = max((row["count"] for row in counts), default=0) or 1
    bar_space = CHART_WIDTH - LABEL_WIDTH - 50
    bars = [
        {
            **row,
            "y": index * BAR_HEIGHT,
            "text_y": index * BAR_HEIGHT + BAR_HEIGHT * 0.65,
            "width": max(round(row["count"] / largest * bar_space, 1), 2),
            "count_x": LABEL_WIDTH + max(round(row["count"] / largest * bar_space, 1), 2) + 6,
        }
        for index, row in enumerate(counts)
    ]
    return {"bars": bars, "width": CHART_WIDTH, "height": len(bars) * BAR_HEIGHT,
            "label_width": LABEL_WIDTH, "bar_height": BAR_HEIGHT - 8}


@login_required
def dashboard(request):
    stats = selectors.library_stats(user=request.user)
    # The genre bars match the playlists they link to, so the uncertain guesses are counted apart.
    counts = selectors.genre_counts(user=request.user, certain_only=True)
    return render(request, "dashboard/dashboard.html", {
        "stats": stats,
        "statuses": [(label, stats["by_status"][value], value) for value, label in Track.Status.choices],
        "chart": genre_chart(counts, uncertain=stats["uncertain"]),
        "least_sure": selectors.tracks_least_confident(user=request.user, limit=10),
    })
