"""A small general thesaurus of what people say about a professional and their life, for query
expansion.

The local embedding model knows little of how words relate outside common phrasing: it does not
place "when could she join?" near "three-month notice period", or "working from home" near "fully
remote role". Recall therefore also searches a question's *expansion*: its words followed by the
terms that :data:`GROUPS` puts next to them (see :func:`expand`).

Each group is a set of words and short phrases that answer for one another in questions about a
person — synonyms, the usual forms of a concept, and the things it is commonly said about. A term
may appear in several groups. The first terms of a group are its most general ones: when only a
few related terms are added, they are taken in order.

Lookups go through :func:`stem`, a light English normalisation (plural and verb endings, a few
derivational ones), so "communicating", "communication" and "communicates" all find the
"communicate" group.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache

GROUPS: tuple[str, ...] = (
    # preferences and opinions
    "prefer, like, enjoy, favourite, love, fond, preference, rather, choice, taste",
    "dislike, hate, avoid, cannot stand, annoy, irritate, pet peeve, not keen",
    "opinion, view, think, stance, attitude, feel, position, stand",
    "want, wish, hope, would like, aim, goal, aspiration, ambition",
    "interest, interested, curious, passion, passionate, into, keen",
    "value, care about, priority, important, matter, principle",
    # communication
    "communicate, communication, meeting, call, email, message, chat, written, update, contact, reach",
    "meeting, call, sync, standup, huddle, video call, catch-up, one-on-one, conference call",
    "email, mail, inbox, newsletter, message",
    "chat, slack, teams, messaging, instant message, dm, thread, channel",
    "asynchronous, async, written, writing, document, doc, update, note",
    "update, status, report, progress, summary, briefing, status update",
    "phone, call, ring, mobile, cell, telephone, voicemail, text message, sms",
    "feedback, criticism, review, comment, critique, suggestion, praise",
    "presentation, slides, demo, pitch, deck",
    "respond, reply, answer, response time, get back",
    "interrupt, disturb, distraction, focus time, deep work, do not disturb",
    "direct, blunt, straightforward, frank, honest, candid",
    # work arrangements
    "remote, work from home, home office, distributed, telecommute, anywhere, home",
    "office, on-site, onsite, in person, workplace, headquarters, desk, in the office",
    "hybrid, flexible, split, some days, part remote",
    "relocate, relocation, move, moving, willing to move, transfer",
    "commute, commuting, travel to work, journey, drive, transit",
    "business travel, travel, trip, visit, offsite, on the road",
    "hours, schedule, working day, working hours, shift, start time, finish, log off",
    "part-time, full-time, contract, freelance, contractor, permanent, employment type",
    "time zone, timezone, utc, cet, gmt, pst, est, local time",
    "weekend, saturday, sunday, day off",
    "overtime, on call, after hours, pager, rota",
    # availability and job change
    "available, availability, free, reachable, open",
    "start, join, begin, onboard, start date, come on board, earliest start",
    "notice period, notice, resign, leave, quit, garden leave, handover",
    "leave, holiday, vacation, time off, break, away, absence, pto, out of office",
    "sabbatical, career break, gap year, extended leave",
    "parental leave, maternity leave, paternity leave",
    "sick, sick leave, ill, unwell, off sick",
    "job search, looking for work, open to offers, new role, next role, opportunity, job hunt",
    "offer, job offer, hire, recruit, recruiter, hiring",
    "interview, interview process, screening, technical interview, take-home, assessment",
    "visa, work permit, sponsorship, residency, right to work, citizenship, passport",
    # events and speaking
    "conference, summit, convention, expo, kubecon, gophercon, pycon, devcon, tech event, event",
    "meetup, user group, community event, gathering, networking",
    "talk, presentation, keynote, speaker, speaking, lecture, session, panel",
    "workshop, tutorial, training, bootcamp, seminar, masterclass, course",
    "hackathon, game jam, coding competition",
    "webinar, livestream, online event, virtual event",
    "attend, go to, visit, participate, register, ticket",
    # media and publishing
    "podcast, episode, show, host, co-host, audio, radio",
    "interview, feature, profile, press, media, journalist, news, coverage",
    "article, blog, post, essay, write-up, column, newsletter, writing",
    "video, youtube, stream, channel, vlog, recording",
    "publish, published, author, publication, paper, book, wrote",
    "social media, twitter, linkedin, mastodon, instagram, followers, online presence",
    "media, appearance, show, press, broadcast, public",
    "open source, github, library, project, maintainer, contributor, repository, package",
    # education and credentials
    "education, study, degree, university, college, school, academic, graduate",
    "degree, bachelor, master, phd, doctorate, diploma, major, graduated",
    "certification, certificate, certified, credential, qualification, license, accreditation",
    "course, class, lesson, training, learning, study, tuition",
    "school, primary school, secondary school, kindergarten, nursery, pupil",
    "research, thesis, dissertation, lab, academic, paper",
    "learn, learning, study, practise, improve, pick up",
    # family and relationships
    "family, relatives, household, kin",
    "child, children, kid, son, daughter, baby, toddler, parent",
    "parent, mother, father, mum, dad, mom, parents",
    "partner, spouse, husband, wife, married, girlfriend, boyfriend, other half, relationship",
    "sibling, brother, sister, twin",
    "friend, friends, mate, buddy, social circle",
    "wedding, marriage, engaged, anniversary",
    "birthday, born, date of birth, age, birth",
    "grandparent, grandmother, grandfather, grandchild",
    "childcare, school run, pick up, nanny, daycare",
    # home and location
    "live, lives, home, based, reside, location, city, address, neighbourhood",
    "city, town, village, neighbourhood, district, area, region, country",
    "country, nationality, national, citizen, from, origin, hometown",
    "house, flat, apartment, home, rent, own, mortgage",
    "move, moved, relocate, emigrate, settle",
    "abroad, overseas, international, expat, foreign",
    # health and diet
    "health, medical, condition, illness, doctor, wellbeing",
    "allergy, allergic, intolerance, reaction, sensitive",
    "medication, medicine, drug, antibiotic, prescription, penicillin, pill",
    "diet, eat, food, meal, dietary, nutrition",
    "vegetarian, vegan, plant-based, meat, meat-free, pescatarian",
    "food, dish, meal, cuisine, cook, recipe, restaurant, dinner, lunch",
    "drink, coffee, tea, espresso, beverage, caffeine",
    "alcohol, wine, beer, drinking, sober, teetotal",
    "injury, pain, strain, rsi, wrist, back pain, ergonomic",
    "disability, accessibility, accommodation, impairment, neurodivergent, adhd, dyslexia",
    "mental health, stress, burnout, anxiety, wellbeing, therapy",
    "sleep, rest, tired, night owl, early riser, morning person",
    "fitness, exercise, sport, workout, gym, training, keep fit",
    "run, running, jog, marathon, half marathon, race, 10k",
    "cycle, cycling, bike, bicycle, ride",
    "swim, swimming, pool",
    "yoga, pilates, meditation, stretching, mindfulness",
    "hike, hiking, walk, walking, trek, climbing, outdoors",
    "football, soccer, tennis, basketball, team sport, match",
    # hobbies and interests
    "hobby, hobbies, pastime, free time, leisure, spare time, interest",
    "read, reading, book, novel, author, fiction, literature, genre",
    "music, listen, song, album, jazz, band, playlist",
    "instrument, play, piano, guitar, violin, cello, drums, musician",
    "film, movie, cinema, series, tv, watch, netflix",
    "game, gaming, video game, board game, chess, play",
    "art, painting, drawing, photography, craft, design",
    "garden, gardening, plants, allotment",
    "travel, trip, holiday, journey, abroad, tourism, visit, destination",
    "pet, animal, dog, cat, puppy, kitten",
    "volunteer, volunteering, charity, community, give back, non-profit, mentor",
    "cooking, baking, cook, kitchen, recipe",
    # tools and technology
    "tool, software, app, application, tooling, setup, stack",
    "editor, ide, vim, neovim, emacs, vs code, zed, intellij, text editor",
    "programming language, language, code, coding, python, go, java, rust, javascript, typescript",
    "cloud, aws, gcp, google cloud, azure, infrastructure, hosting",
    "kubernetes, k8s, container, docker, gke, eks, orchestration",
    "database, postgres, sql, mysql, datastore, spanner, storage",
    "operating system, os, linux, macos, windows",
    "laptop, computer, machine, hardware, keyboard, monitor, mouse",
    "keyboard, typing, mechanical keyboard, split keyboard, ergonomic",
    "framework, library, sdk, toolkit",
    "version control, git, github, gitlab, pull request, merge request",
    "code review, review, pull request, feedback, reviewer",
    "test, testing, unit test, qa, quality",
    "deploy, deployment, release, ci, cd, pipeline, ship",
    "ai, machine learning, ml, llm, model, data science",
    "security, privacy, encryption, compliance",
    "dark mode, theme, font, layout, settings",
    # role and career
    "job, work, role, position, employment, occupation, career",
    "employer, company, firm, organisation, workplace, business, startup",
    "title, role, position, seniority, level, rank",
    "engineer, developer, programmer, software engineer, coder",
    "senior, staff, principal, lead, junior, mid-level",
    "team, colleagues, coworkers, group, squad, department",
    "project, product, platform, initiative, system",
    "experience, background, history, track record, years",
    "skill, expertise, strength, competence, good at, specialty",
    "weakness, gap, struggle, improve, development area",
    "achievement, accomplishment, success, award, win, proud",
    "promotion, promoted, career growth, advance, progression, career path",
    "career change, switch, transition, pivot, new field",
    "incident, outage, failure, downtime, production issue, on call, postmortem",
    "problem, issue, bug, fix, solve, troubleshoot, debug",
    "customer, client, user, stakeholder",
    "startup, scale-up, enterprise, corporate, agency, consultancy",
    "industry, sector, field, domain, fintech, payments",
    # management and leadership
    "management, manage, manager, people management, lead, leadership, managing",
    "mentor, mentoring, coach, coaching, guide, teach, junior, mentee",
    "report, direct report, team member, supervise",
    "boss, manager, supervisor, line manager, team lead",
    "hire, hiring, recruit, interview, build a team",
    "delegate, responsibility, ownership, accountable",
    "individual contributor, ic, technical track, hands-on",
    "decision, decide, choose, judgement",
    "plan, planning, roadmap, strategy, goal, objective",
    "process, agile, scrum, kanban, sprint, retro, ceremony",
    # pay and conditions
    "salary, pay, compensation, wage, income, earn, money, package",
    "bonus, equity, stock, options, shares, benefits, perks",
    "raise, pay rise, increase, negotiate, expectation",
    "rate, day rate, hourly rate, fee, invoice",
    "pension, retirement, insurance, health insurance",
    "contract, agreement, terms, clause, non-compete",
    # languages spoken
    "speak, language, fluent, native, bilingual, multilingual",
    "english, spanish, portuguese, german, french, italian, chinese, japanese, dutch",
    "learn a language, duolingo, lessons, practise, improve",
    "accent, pronunciation, translation, translate",
    # time and dates
    "morning, afternoon, evening, night, early, late",
    "monday, tuesday, wednesday, thursday, friday, weekday",
    "january, february, march, april, may, june, july, august, september, october, november, december",
    "spring, summer, autumn, fall, winter, season",
    "soon, upcoming, next, future, plan, later",
    "past, previous, former, used to, earlier, before",
    "often, frequency, regularly, weekly, monthly, quarterly, every",
    "deadline, due, target date, cutoff",
    # transport
    "car, drive, driving, licence, vehicle",
    "public transport, tram, bus, train, metro, subway, transit",
    "flight, fly, airport, plane, airline",
    # personality and working style
    "personality, character, temperament, nature, introvert, extrovert",
    "working style, work style, approach, habit, routine, way of working",
    "collaborate, collaboration, teamwork, pair programming, pairing, cooperate",
    "independent, autonomy, self-directed, alone, on her own, on his own",
    "organised, structured, methodical, detail, planner",
    "creative, creativity, ideas, innovative, imaginative",
    "patient, calm, relaxed, easy-going",
    "punctual, on time, late, reliable",
    # beliefs and values
    "religion, faith, belief, church, spiritual",
    "politics, political, vote, activism, cause",
    "environment, sustainability, climate, green, eco",
    "diversity, inclusion, equity, underrepresented",
    # money and life admin
    "finance, money, savings, budget, invest, spending",
    "gift, present, surprise, card, wishes",
    "celebrate, celebration, party, anniversary, festival",
    "goal, resolution, plan, ambition, bucket list, dream",
    "contact details, address, email address, phone number, handle",
    "name, called, nickname, surname",
    "appearance, look, wear, clothes, style, glasses",
)
"""Related-term groups, comma-separated, most general terms first."""

_WORD = re.compile(r"[\w'’]+(?:-[\w'’]+)*", re.UNICODE)
_INFLECTIONS = ("ies", "ied", "ings", "ing", "ed", "es", "s")
_DERIVATIONS = (
    "abilities",
    "ational",
    "ability",
    "ically",
    "ations",
    "ation",
    "ators",
    "ments",
    "ences",
    "ances",
    "ities",
    "ator",
    "ment",
    "ence",
    "ance",
    "able",
    "ible",
    "ness",
    "ical",
    "ions",
    "ate",
    "ity",
    "ion",
    "at",
    "ic",
    "ly",
    "e",
    "y",
)
"""Derivational endings, longest first (one is removed, after the inflection)."""
_MIN_STEM = 3


def words(text: str) -> list[str]:
    """The words of ``text`` in order, case-folded (hyphenated words stay one word)."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    return [w.strip("'") for w in _WORD.findall(folded) if w.strip("'")]


def stem(word: str) -> str:
    """A light English stem: inflection and common endings removed, so related forms meet.

    "communicate", "communication", "communicating" → "communic"; "meetings" → "meet";
    "prefers" → "prefer". Not a linguistic stemmer: the same rule applied to the lexicon and to
    queries is what makes lookups hit. Short words (a stem would have fewer than three letters)
    and words ending in "ss" or "us" keep their form.
    """
    w = word.casefold().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'")
    if w.endswith(("ss", "us", "is")) or len(w) <= _MIN_STEM:
        return w
    w = _uninflect(w)
    for suffix in _DERIVATIONS:
        if w.endswith(suffix) and len(w) - len(suffix) >= _MIN_STEM:
            return w[: -len(suffix)]
    return w


def _uninflect(w: str) -> str:
    for suffix in _INFLECTIONS:
        if not w.endswith(suffix) or len(w) - len(suffix) < _MIN_STEM:
            continue
        base = w[: -len(suffix)]
        if suffix in ("ies", "ied"):
            return base + "y"
        if suffix == "es" and not base.endswith(("s", "x", "z", "ch", "sh")):
            return w[:-1]  # "offices" → "office", "classes" → "class"
        if suffix in ("ing", "ings", "ed") and base[-1] == base[-2] and base[-1] not in "lsz":
            return base[:-1]  # "planning" → "plan", "preferred" → "prefer"
        return base
    return w


def _key(term: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(term))


class Lexicon:
    """Related-term groups indexed by the stems of their terms (single words and phrases)."""

    def __init__(self, groups: Iterable[str]) -> None:
        self.groups: list[tuple[str, ...]] = []
        self._index: dict[tuple[str, ...], list[int]] = {}
        self.longest = 1
        for line in groups:
            terms = tuple(dict.fromkeys(t.strip() for t in line.split(",") if t.strip()))
            if len(terms) < 2:
                raise ValueError(f"a lexicon group needs at least two terms: {line!r}")
            number = len(self.groups)
            self.groups.append(terms)
            for term in terms:
                key = _key(term)
                if not key:
                    continue
                found = self._index.setdefault(key, [])
                if number not in found:
                    found.append(number)
                self.longest = max(self.longest, len(key))

    def lookup(self, text: str) -> list[int]:
        """The groups that the words and phrases of ``text`` name, in order of first mention.

        A phrase ("notice period") is matched before its words, and its words are then not looked
        up alone.
        """
        stems = [stem(w) for w in words(text)]
        found: list[int] = []
        i = 0
        while i < len(stems):
            for size in range(min(self.longest, len(stems) - i), 0, -1):
                groups = self._index.get(tuple(stems[i : i + size]))
                if groups:
                    found += [g for g in groups if g not in found]
                    i += size
                    break
            else:
                i += 1
        return found

    def related(self, text: str, per_group: int) -> list[str]:
        """Up to ``per_group`` terms of each group ``text`` names, without the ones it already says."""
        said = {stem(w) for w in words(text)}
        terms: list[str] = []
        seen: set[tuple[str, ...]] = set()
        for number in self.lookup(text):
            taken = 0
            for term in self.groups[number]:
                key = _key(term)
                if taken >= per_group:
                    break
                if key in seen or set(key) <= said:
                    continue
                seen.add(key)
                terms.append(term)
                taken += 1
        return terms


@cache
def default() -> Lexicon:
    return Lexicon(GROUPS)


def expand(text: str, *, per_group: int = 4, lexicon: Lexicon | None = None) -> str:
    """``text`` followed by related terms from the lexicon ("" when it names no group).

    "like communicate" → "like communicate prefer enjoy favourite love communication contact …".
    """
    terms = (lexicon or default()).related(text, per_group)
    return " ".join([text, *terms]) if terms else ""


def expansion_terms(text: str, *, per_group: int = 4, lexicon: Lexicon | None = None) -> Sequence[str]:
    """The related terms :func:`expand` adds to ``text``."""
    return (lexicon or default()).related(text, per_group)
