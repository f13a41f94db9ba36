"""The Developer page: API tokens and webhooks, managed from the browser."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from classifier import selectors
from classifier.services.tokens import token_create, token_revoke
from classifier.services.webhooks import webhook_create, webhook_delete, webhook_rotate_secret, webhook_update

NEW_TOKEN_SESSION_KEY = "developer_new_token"


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where you will use it, e.g. “laptop script”.")


class WebhookForm(forms.Form):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https",
                         help_text="Receives a signed POST when one of your tracks is done or failed.")
    description = forms.CharField(max_length=200, required=False)


def _page(request, token_form=None, webhook_form=None, status=200):
    webhooks = selectors.webhook_list_with_recent_deliveries(user=request.user, limit=5)
    return render(request, "developer/index.html", {
        "tokens": selectors.api_token_list(user=request.user),
        # Shown once: popped from the session on the first page view after creation.
        "new_token": request.session.pop(NEW_TOKEN_SESSION_KEY, None),
        "webhooks": webhooks,
        "token_form": token_form or TokenForm(),
        "webhook_form": webhook_form or WebhookForm(),
    }, status=status)


@login_required
@require_safe
def developer(request):
    return _page(request)


@login_required
@require_POST
def token_new(request):
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, token_form=form, status=400)
    token, secret = token_create(user=request.user, name=form.cleaned_data["name"])
    request.session[NEW_TOKEN_SESSION_KEY] = {"name": token.name, "secret": secret}
    return redirect("developer")


@login_required
@require_POST
def token_revoke_view(request, pk):
    token = selectors.api_token_get(user=request.user, token_id=pk)
    token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    return redirect("developer")


@login_required
@require_POST
def webhook_new(request):
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            webhook_create(owner=request.user, **form.cleaned_data)
        except ValidationError as err:
            form.add_error("url", err)
    if not form.is_valid():
        return _page(request, webhook_form=form, status=400)
    messages.success(request, "Webhook added.")
    return redirect("developer")


@login_required
@require_POST
def webhook_toggle(request, pk):
    webhook = selectors.webhook_get(user=request.user, webhook_id=pk)
    webhook_update(webhook=webhook, active=not webhook.active)
    messages.success(request, f"Webhook {'enabled' if webhook.active else 'paused'}.")
    return redirect("developer")


@login_required
@require_POST
def webhook_rotate(request, pk):
    webhook_rotate_secret(webhook=selectors.webhook_get(user=request.user, webhook_id=pk))
    messages.success(request, "New signing secret created; update your receiver.")
    return redirect("developer")


@login_required
@require_POST
def webhook_remove(request, pk):
    webhook_delete(webhook=selectors.webhook_get(user=request.user, webhook_id=pk))
    messages.success(request, "Webhook deleted.")
    return redirect("developer")
