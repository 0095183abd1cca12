"""An evaluation set: one persona's memories, distractors, facts that changed, and questions
worded differently from the memories they should find.

``MEMORIES`` are stored first (keys name them), then each ``UPDATES`` entry replaces a memory
through memory_update. ``QUESTIONS`` map a paraphrased question to the key of the memory that
answers it; for updated facts that is the *new* version.
"""

from __future__ import annotations

MEMORIES: dict[str, tuple[str, str]] = {
    # key: (kind, content)
    "job": ("fact", "Maya works as a staff software engineer at Finlytics on the payments platform."),
    "city": ("fact", "Maya lives in Lisbon, in the Alfama neighbourhood."),
    "editor": ("preference", "Maya's editor of choice is Neovim with the LazyVim distribution."),
    "language": ("preference", "Her favourite programming language is Go; she finds Java too verbose."),
    "coffee": ("preference", "Drinks her coffee black, no sugar, usually a double espresso."),
    "diet": ("fact", "Maya is vegetarian and avoids fish as well."),
    "daughter": ("fact", "Maya's daughter Zara was born in 2019 and starts primary school this year."),
    "partner": ("fact", "Her partner Tomás is a cellist in the Gulbenkian Orchestra."),
    "allergy": ("fact", "Maya is allergic to penicillin."),
    "meeting_style": (
        "preference",
        "Prefers written design docs over meetings; keeps calls under 30 minutes.",
    ),
    "timezone": ("fact", "She works on Western European Time and keeps Fridays free of meetings."),
    "degree": ("fact", "Studied mathematics at the University of Porto, graduating in 2012."),
    "talk": ("event", "Gave a talk at GopherCon EU 2023 about idempotent payment retries."),
    "oncall": (
        "event",
        "Led the incident response when the card authorisation service went down on Black Friday.",
    ),
    "mentoring": ("fact", "Mentors two junior engineers, Rui and Aisha, every other Thursday."),
    "running": ("fact", "Training for the Lisbon half marathon in March; runs four times a week."),
    "reading": ("preference", "Likes science fiction, especially Ursula K. Le Guin and Ted Chiang."),
    "salary": ("fact", "Her target salary for the next role is 120,000 euros a year."),
    "car": ("fact", "Maya does not own a car; she cycles or takes the tram."),
    "keyboard": ("preference", "Types on a split ergonomic keyboard because of wrist pain."),
    "spanish": ("fact", "Speaks Portuguese and English fluently and is learning Spanish on Duolingo."),
    "cat": ("fact", "Has a grey cat called Pixel who knocks things off the desk during calls."),
    "cloud": ("fact", "Her team runs everything on Google Cloud with GKE and Cloud Spanner."),
    "review": ("preference", "Wants code review comments to be direct and to include a suggested fix."),
    "birthday": ("fact", "Maya's birthday is on 14 September."),
    "conference": ("event", "Will attend KubeCon Europe in Amsterdam next spring."),
}

DISTRACTORS: list[tuple[str, str]] = [
    ("note", "The Kafka consumer lag dashboard lives in the observability folder in Grafana."),
    ("note", "Recipe idea: chickpea curry with coconut milk and spinach."),
    ("note", "The office wifi password rotates on the first Monday of every month."),
    ("note", "Lisbon's tram 28 gets crowded with tourists in the summer."),
    ("note", "Java 21 introduced virtual threads for lightweight concurrency."),
    ("note", "The half-life of caffeine in adults is about five hours."),
    ("note", "GopherCon US takes place in Chicago this year."),
    ("note", "Penguins are flightless birds that live mostly in the Southern Hemisphere."),
    ("note", "A cello has four strings tuned in perfect fifths."),
    ("note", "Primary schools in Portugal start in mid September."),
    ("note", "The team retro board uses the start, stop, continue format."),
    ("note", "Ergonomic chairs should support the lower back."),
]

UPDATES: dict[str, tuple[str, str]] = {
    # key of the old memory: (new content, reason)
    "city": ("Maya moved from Lisbon to Berlin, to Kreuzberg, in 2025.", "moved"),
    "job": ("Maya now works as a principal engineer at CloudNest on the observability platform.", "new job"),
    "editor": ("Maya switched from Neovim to Zed as her main editor.", "changed editor"),
    "salary": ("Her target salary for the next role is now 135,000 euros a year.", "raised expectation"),
    "running": (
        "Finished the Lisbon half marathon in 1:52 and is now training for the Berlin marathon.",
        "race done",
    ),
}

QUESTIONS: list[tuple[str, str]] = [
    ("Which city is she based in?", "city"),
    ("Where does Maya live now?", "city"),
    ("Who is her employer and what is her role?", "job"),
    ("What company is the programmer working for?", "job"),
    ("Which text editor or IDE does she use?", "editor"),
    ("What programming language does she like best?", "language"),
    ("How does she take her coffee?", "coffee"),
    ("Does she eat meat?", "diet"),
    ("How old is her kid?", "daughter"),
    ("What does her spouse do for a living?", "partner"),
    ("Any medication she must not be given?", "allergy"),
    ("Should I schedule a meeting or write a document for her?", "meeting_style"),
    ("Which day of the week is she unavailable for calls?", "timezone"),
    ("What did she study at university?", "degree"),
    ("Has she spoken at a conference?", "talk"),
    ("Tell me about an outage she handled", "oncall"),
    ("Does she coach other developers?", "mentoring"),
    ("What sport or exercise does she do?", "running"),
    ("What books does she enjoy?", "reading"),
    ("How much money does she want to earn?", "salary"),
    ("How does she get around the city?", "car"),
    ("Why does she use a special keyboard?", "keyboard"),
    ("Which languages does she speak?", "spanish"),
    ("Does she have any pets?", "cat"),
    ("Which cloud provider does her team use?", "cloud"),
    ("How should I phrase feedback on her pull requests?", "review"),
    ("When should I send birthday wishes?", "birthday"),
    ("Which events is she planning to go to?", "conference"),
]
