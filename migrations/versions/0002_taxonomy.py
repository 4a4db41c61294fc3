"""taxonomy: interests, activities and languages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 03:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (code, Dutch label, English label); the position is the order in these lists.
INTERESTS = [
    ("wandelen", "Wandelen", "Walking"),
    ("fietsen", "Fietsen", "Cycling"),
    ("koken", "Koken", "Cooking"),
    ("bakken", "Bakken", "Baking"),
    ("tuinieren", "Tuinieren", "Gardening"),
    ("lezen", "Lezen", "Reading"),
    ("muziek", "Muziek", "Music"),
    ("zingen", "Zingen", "Singing"),
    ("dansen", "Dansen", "Dancing"),
    ("schilderen", "Schilderen en tekenen", "Painting and drawing"),
    ("handwerken", "Handwerken", "Needlework"),
    ("spelletjes", "Spelletjes", "Games"),
    ("kaarten", "Kaarten (klaverjassen, bridge)", "Card games"),
    ("puzzelen", "Puzzelen", "Puzzles"),
    ("schaken", "Schaken en dammen", "Chess and draughts"),
    ("sport_kijken", "Sport kijken", "Watching sports"),
    ("voetbal", "Voetbal", "Football"),
    ("geschiedenis", "Geschiedenis", "History"),
    ("natuur", "Natuur", "Nature"),
    ("dieren", "Dieren", "Animals"),
    ("film", "Film", "Film"),
    ("theater", "Theater", "Theatre"),
    ("musea", "Musea", "Museums"),
    ("fotografie", "Fotografie", "Photography"),
    ("techniek", "Techniek en klussen", "Engineering and DIY"),
    ("computers", "Computers en internet", "Computers and the internet"),
    ("geloof", "Religie en geloof", "Religion and faith"),
    ("reizen", "Reizen", "Travel"),
    ("talen", "Talen", "Languages"),
    ("markt", "Markt", "Markets"),
    ("koffie_drinken", "Koffie drinken en kletsen", "Coffee and a chat"),
    ("nieuws", "Nieuws en politiek", "News and politics"),
]
ACTIVITIES = [
    ("koffie_drinken", "Koffie drinken", "Having coffee"),
    ("wandeling", "Wandeling", "A walk"),
    ("boodschappen", "Samen boodschappen doen", "Shopping together"),
    ("samen_koken", "Samen koken", "Cooking together"),
    ("spelletje", "Spelletje doen", "Playing a game"),
    ("uitstapje", "Uitstapje", "An outing"),
    ("bibliotheek", "Naar de bibliotheek", "Going to the library"),
    ("markt", "Naar de markt", "Going to the market"),
    ("museum", "Museumbezoek", "Visiting a museum"),
    ("telefoongesprek", "Telefoongesprek", "A phone call"),
    ("fietstocht", "Fietstocht", "A bike ride"),
    ("taal_oefenen", "Nederlands oefenen", "Practising Dutch"),
]
# ISO 639 codes; Tamazight (Berber) uses the collective code "ber".
LANGUAGES = [
    ("nl", "Nederlands", "Dutch"),
    ("en", "Engels", "English"),
    ("tr", "Turks", "Turkish"),
    ("ary", "Marokkaans-Arabisch", "Moroccan Arabic"),
    ("ber", "Tamazight (Berbers)", "Tamazight (Berber)"),
    ("ar", "Arabisch", "Arabic"),
    ("srn", "Sranantongo", "Sranan Tongo"),
    ("pap", "Papiaments", "Papiamento"),
    ("pl", "Pools", "Polish"),
    ("de", "Duits", "German"),
    ("fr", "Frans", "French"),
    ("es", "Spaans", "Spanish"),
    ("so", "Somalisch", "Somali"),
    ("ti", "Tigrinya", "Tigrinya"),
    ("fa", "Perzisch (Farsi, Dari)", "Persian (Farsi, Dari)"),
    ("ku", "Koerdisch", "Kurdish"),
    ("bg", "Bulgaars", "Bulgarian"),
    ("ro", "Roemeens", "Romanian"),
    ("uk", "Oekraïens", "Ukrainian"),
    ("ru", "Russisch", "Russian"),
    ("zh", "Chinees", "Chinese"),
    ("hi", "Hindi", "Hindi"),
]
TERMS = {"interest": INTERESTS, "activity": ACTIVITIES, "language": LANGUAGES}


def _table(name: str) -> sa.TableClause:
    return sa.table(
        name,
        sa.column("code", sa.String),
        sa.column("label_nl", sa.String),
        sa.column("label_en", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("position", sa.Integer),
    )


def upgrade() -> None:
    for name, terms in TERMS.items():
        op.bulk_insert(_table(name), [
            {"code": code, "label_nl": nl, "label_en": en, "active": True, "position": position}
            for position, (code, nl, en) in enumerate(terms, start=1)
        ])


def downgrade() -> None:
    for name, terms in TERMS.items():
        table = _table(name)
        op.execute(table.delete().where(table.c.code.in_([code for code, _nl, _en in terms])))
