"""Twilio and network failures mapped to DeliveryFailed: retry, look up before any resend, or
give up with a French reason that tells the on-call agent what to do by hand."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)

from channels.base import DeliveryFailed
from contacts.phone import is_e164

__all__ = [
    "MAPPED_ERRORS",
    "check_recipient",
    "delivery_failure",
    "lookup_failure",
    "stale_message",
]

ACCOUNT_REFUSED = "compte Twilio refusé (identifiants invalides ou compte suspendu)"
AMBIGUOUS_ADVICE = "le message a peut-être été accepté ; vérification avant tout nouvel envoi"
RETRY_ADVICE = "nouvel essai automatique"


@dataclass(frozen=True)
class _Cause:
    text: str  # short French cause, safe to show (never a number or a Twilio message)
    retryable: bool = False
    ambiguous: bool = False
    admin: bool = False  # the channel itself is down: the administrator must act
    advice: str = "joindre ce destinataire autrement"  # when it is this message's own problem


_ACCOUNT_CODES = frozenset({20003, 20005, 20008, 20010, 30002})
_INVALID = _Cause("numéro du destinataire invalide (fiche de l'annuaire à corriger)")
_GEO = _Cause(
    "destination non autorisée par le compte Twilio (permissions géographiques)", admin=True
)
_SENDER = _Cause(
    "expéditeur refusé par Twilio (numéro ou nom d'expéditeur du [twilio])", admin=True
)
_TRIAL = _Cause("compte Twilio d'essai : seuls les numéros vérifiés sont joignables", admin=True)
_CODE_CAUSES: dict[int, _Cause] = {
    21211: _INVALID,
    21217: _INVALID,
    21401: _INVALID,
    21614: _Cause("le numéro du destinataire n'est pas un mobile : SMS impossible"),
    21612: _Cause("destinataire injoignable par SMS depuis cet expéditeur"),
    21214: _Cause("numéro du destinataire injoignable"),
    21610: _Cause("le destinataire a bloqué les SMS de cet expéditeur (STOP)"),
    21617: _Cause(
        "message trop long pour Twilio (1 600 caractères au plus)", advice="le raccourcir"
    ),
    21602: _Cause("message vide refusé par Twilio", advice="corriger le modèle de message"),
    21408: _GEO,
    21215: _GEO,
    21212: _SENDER,
    21210: _SENDER,
    21606: _SENDER,
    21659: _SENDER,
    21219: _TRIAL,
    21608: _TRIAL,
}


def _rest_cause(status: int, code: int | None) -> _Cause:
    if status == 429 or code == 20429:
        return _Cause("Twilio limite le débit (erreur 429)", retryable=True)
    if status in {401, 403} or code in _ACCOUNT_CODES:
        return _Cause(ACCOUNT_REFUSED, admin=True)
    if code is not None and code in _CODE_CAUSES:
        return _CODE_CAUSES[code]
    if status == 404:
        return _Cause("ressource Twilio introuvable (identifiant de compte erroné ?)", admin=True)
    if status == 503:
        return _Cause("Twilio momentanément indisponible (erreur 503)", retryable=True)
    if status >= 500:
        # the request reached Twilio: it may have created the message before failing
        return _Cause(f"erreur interne de Twilio (erreur {status})", ambiguous=True)
    label = f"code {code}" if code and code != status else f"erreur {status}"
    return _Cause(f"requête refusée par Twilio ({label})", admin=True)


def _transport_cause(exc: Exception) -> _Cause:
    """aiohttp's failures (the SDK's async client): never connected means nothing was sent;
    any failure once the request may have left is ambiguous."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return _Cause("Twilio injoignable (délai de connexion dépassé)", retryable=True)
    if isinstance(exc, TimeoutError):  # read timeout (SocketTimeoutError): the request had left
        return _Cause("pas de réponse de Twilio dans le délai", ambiguous=True)
    if isinstance(exc, aiohttp.ClientSSLError):
        return _Cause("connexion sécurisée à Twilio impossible (TLS)", retryable=True)
    if isinstance(exc, aiohttp.ClientConnectorError):  # refused, unknown host: never connected
        return _Cause("Twilio injoignable (connexion refusée ou nom inconnu)", retryable=True)
    if isinstance(exc, aiohttp.ClientError):  # disconnected, reset, truncated answer...
        return _Cause("connexion à Twilio coupée pendant l'envoi", ambiguous=True)
    # any other failure once the request may have left (unreadable answer...)
    return _Cause("réponse de Twilio illisible", ambiguous=True)


def _cause(exc: Exception) -> _Cause:
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        code = exc.code if isinstance(exc.code, int) else None
        return _rest_cause(int(exc.status), code)
    return _transport_cause(exc)


MAPPED_ERRORS: tuple[type[Exception], ...] = (TwilioException, aiohttp.ClientError, TimeoutError)


def delivery_failure(exc: Exception, *, manual: str) -> DeliveryFailed:
    """Map an SDK or network error to DeliveryFailed with a French reason for the on-call agent.

    `manual` says what to do by hand when the channel itself is down ("appeler à la main").
    Twilio's own message is never used: it quotes phone numbers.
    """
    cause = _cause(exc)
    if cause.ambiguous:
        reason = f"{cause.text} : {AMBIGUOUS_ADVICE}"
    elif cause.retryable:
        reason = f"{cause.text} : {RETRY_ADVICE}"
    elif cause.admin:
        reason = f"{cause.text} : prévenir l'administrateur, {manual}"
    else:
        reason = f"{cause.text} : {cause.advice}"
    return DeliveryFailed(reason, retryable=cause.retryable, ambiguous=cause.ambiguous)


def lookup_failure(exc: Exception) -> DeliveryFailed:
    """A look-up that could not answer: the message stays "unknown", never resent blindly."""
    return DeliveryFailed(
        f"vérification auprès de Twilio impossible ({_cause(exc).text}) : état du message "
        "inconnu, nouvelle vérification plus tard",
        retryable=False,
        ambiguous=True,
    )


def stale_message() -> DeliveryFailed:
    """A message whose validity ended before it could leave."""
    return DeliveryFailed("message périmé, non envoyé", retryable=False)


def check_recipient(address: str, *, manual: str) -> None:
    """Refuse, without a request, an address that is not an E.164 number."""
    if not is_e164(address):
        raise DeliveryFailed(
            "numéro du destinataire absent ou mal formé (format international attendu) : "
            f"corriger la fiche de l'annuaire, {manual}",
            retryable=False,
        )
