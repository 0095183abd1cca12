"""The texts of the profile prompts. Each embeds the résumé so any model can use it as is."""

from __future__ import annotations

_LENGTHS = {
    "short": "two or three sentences",
    "medium": "one paragraph of about 120 words",
    "long": "three short paragraphs",
}


def introduce(resume_md: str, audience: str, length: str) -> str:
    size = _LENGTHS.get(length, _LENGTHS["short"])
    return (
        f"Introduce the person whose résumé follows to {audience}, in {size}, in the first person as they "
        "would introduce themselves. Lead with what matters most to that audience, use only facts from the "
        "résumé, and keep it warm and specific rather than generic.\n\n"
        f"<resume>\n{resume_md}\n</resume>"
    )


def cover_letter(resume_md: str, job_description: str) -> str:
    return (
        "Draft a cover letter (under 350 words) from the person whose résumé follows, for the job described "
        "below. Open with why this role, connect two or three concrete achievements from the résumé to the "
        "job's main requirements, be honest about anything the résumé does not show, and close plainly. "
        "Use no facts that are not in the résumé.\n\n"
        f"<resume>\n{resume_md}\n</resume>\n\n<job>\n{job_description}\n</job>"
    )


def interview_prep(resume_md: str, role: str) -> str:
    return (
        f"Help the person whose résumé follows prepare for an interview for the role: {role}.\n"
        "List the eight questions they are most likely to be asked (technical, behavioural and about their "
        "past roles). For each, sketch an answer built on specific experience from the résumé (say which entry), "
        "and flag the questions where the résumé is thin so they can prepare a story.\n\n"
        f"<resume>\n{resume_md}\n</resume>"
    )
