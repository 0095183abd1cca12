import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

months, commits = inputs["months"], inputs["commits"]
if len(months) != len(commits):
    raise SystemExit("months and commits must have the same length")
fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
ax.bar(months, commits, color="#4C72B0")
ax.set_title(inputs.get("title", "Commits per month"))
ax.set_ylabel("commits")
ax.tick_params(axis="x", rotation=45)
fig.tight_layout()
fig.savefig("chart.png", metadata={"Software": None})
print(f"{sum(commits)} commits over {len(months)} months; busiest: {months[commits.index(max(commits))]}")
