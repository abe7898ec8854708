"""The words of the notices, in English and Urdu, per template (``notice``, ``receipt``, ...)."""

from __future__ import annotations

import time
from dataclasses import dataclass

OFFENCES_EN = {
    "overspeed": "Over-speeding",
    "wrong_way": "Driving the wrong way",
    "red_light": "Running a red light",
    "stalled": "Stopping in a no-stopping zone",
}
OFFENCES_UR = {
    "overspeed": "حد رفتار سے تجاوز",
    "wrong_way": "غلط سمت میں ڈرائیونگ",
    "red_light": "سرخ بتی کی خلاف ورزی",
    "stalled": "ممنوعہ جگہ پر رکنا",
}
TITLES = {
    "notice": ("Traffic violation notice (e-challan)", "ٹریفک خلاف ورزی کا نوٹس (ای چالان)"),
    "appeal_upheld": ("Your appeal was rejected: the fine stands", "آپ کی اپیل مسترد: جرمانہ برقرار ہے"),
    "appeal_cancelled": ("Your appeal was accepted: the ticket is cancelled", "آپ کی اپیل منظور: چالان منسوخ"),
    "receipt": ("Payment received: thank you", "ادائیگی موصول: شکریہ"),
    "overdue": ("Overdue: the fine has increased", "مقررہ تاریخ گزر گئی: جرمانہ بڑھ گیا ہے"),
}
ACTIONS = {
    "notice": ("Pay or appeal by the due date on the portal.", "مقررہ تاریخ تک پورٹل پر ادائیگی یا اپیل کریں۔"),
    "appeal_upheld": ("Pay by the due date on the portal.", "مقررہ تاریخ تک پورٹل پر ادائیگی کریں۔"),
    "appeal_cancelled": ("Nothing is owed.", "کوئی رقم واجب الادا نہیں۔"),
    "receipt": ("Nothing more is owed.", "مزید کوئی رقم واجب الادا نہیں۔"),
    "overdue": ("Pay now on the portal to avoid a further increase.", "مزید اضافے سے بچنے کے لیے ابھی ادائیگی کریں۔"),
}


def fmt_time(ms: int | None) -> str:
    """UTC date and time, or "-"."""
    return "-" if not ms else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ms / 1000))


def fmt_day(ms: int | None) -> str:
    return "-" if not ms else time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))


@dataclass(frozen=True, slots=True)
class NoticeText:
    """What every channel says about one notice."""

    ticket_id: str
    template: str
    offence_en: str
    offence_ur: str
    when: str
    place: str
    fine_pkr: int
    due: str
    portal_url: str

    @property
    def title_en(self) -> str:
        return TITLES.get(self.template, TITLES["notice"])[0]

    @property
    def title_ur(self) -> str:
        return TITLES.get(self.template, TITLES["notice"])[1]

    @property
    def action_en(self) -> str:
        return ACTIONS.get(self.template, ACTIONS["notice"])[0]

    @property
    def action_ur(self) -> str:
        return ACTIONS.get(self.template, ACTIONS["notice"])[1]

    def sms(self) -> str:
        """One SMS (English, then Urdu)."""
        return (
            f"{self.title_en}. Ticket {self.ticket_id}: {self.offence_en}, {self.when}. "
            f"Fine PKR {self.fine_pkr}, due {self.due}. {self.portal_url}\n"
            f"{self.title_ur}۔ چالان {self.ticket_id}: جرمانہ {self.fine_pkr} روپے"
        )

    def email_body(self, name: str) -> str:
        """The plain-text e-mail (English, then Urdu)."""
        return "\n".join(
            [
                f"Dear {name or 'vehicle owner'},",
                "",
                f"{self.title_en}.",
                f"Ticket number: {self.ticket_id}",
                f"Offence: {self.offence_en}",
                f"Time: {self.when}",
                f"Place: {self.place}",
                f"Fine: PKR {self.fine_pkr}",
                f"Due date: {self.due}",
                self.action_en,
                f"Portal: {self.portal_url}",
                "",
                f"{self.title_ur}۔",
                f"چالان نمبر: {self.ticket_id}",
                f"خلاف ورزی: {self.offence_ur}",
                f"جرمانہ: {self.fine_pkr} روپے",
                f"آخری تاریخ: {self.due}",
                self.action_ur,
                "",
                "The evidence photo and the notice are attached as PDF.",
            ]
        )


__all__ = ["NoticeText", "fmt_day", "fmt_time"]
