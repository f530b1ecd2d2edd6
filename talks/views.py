from django.shortcuts import render

from sources.models import SourceArticle
from talks.models import Claim, Issue, Participant, Round


def home(request):
    """What the archive holds: published records only."""
    rounds = Round.objects.published().select_related("track")
    context = {
        "rounds": rounds,
        "counts": {
            "rounds": rounds.count(),
            "claims": Claim.objects.published().count(),
            "articles": SourceArticle.objects.published().count(),
            "participants": Participant.objects.published().count(),
            "issues": Issue.objects.published().count(),
        },
    }
    return render(request, "home.html", context)
