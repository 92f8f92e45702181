"""Template context shared by every page."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language, gettext

from consult.i18n import is_translated, offered_languages, switch_url


def service(request: HttpRequest) -> dict[str, str]:
    # The default name has translations; a name set in the environment is shown as set.
    return {"service_name": gettext(settings.SERVICE_NAME)}


def languages(request: HttpRequest) -> dict[str, object]:
    """The page's language, and on translated pages a link to it in each language (none
    when the site offers only one)."""
    current = get_language()
    offered = offered_languages()
    links = (
        [
            {
                "code": code,
                "name": name,
                "url": switch_url(request, code),
                "current": code == current,
            }
            for code, name in offered.items()
        ]
        if is_translated(request) and len(offered) > 1
        else []
    )
    return {"page_language": current, "language_links": links}
