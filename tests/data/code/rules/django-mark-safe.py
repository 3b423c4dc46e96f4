from django.utils.html import format_html
from django.utils.safestring import mark_safe


def badge(user_name):
    # ruleid: psr.python.django-mark-safe
    html = mark_safe("<b>%s</b>" % user_name)
    # ruleid: psr.python.django-mark-safe
    raw = mark_safe(user_name)
    # ok: psr.python.django-mark-safe
    sep = mark_safe("<hr>")
    # ok: psr.python.django-mark-safe
    good = format_html("<b>{}</b>", user_name)
    return html, raw, sep, good
