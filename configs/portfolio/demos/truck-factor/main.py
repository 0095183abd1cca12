from truck import truck_factor

owners = inputs["owners"]
coverage = inputs.get("coverage", 0.5)
factor, authors = truck_factor(owners, coverage)
print(f"{len(owners)} files, {len({a for people in owners.values() for a in people})} authors")
print(f"truck factor: {factor}")
for rank, author in enumerate(authors, 1):
    print(f"  {rank}. {author}")
