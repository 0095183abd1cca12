const fs = require("fs");
const { a, b } = JSON.parse(fs.readFileSync("inputs.json", "utf8"));

function distance(s, t) {
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    previous = current;
  }
  return previous;
}

const row = distance(a, b);
console.log(`distance(${JSON.stringify(a)}, ${JSON.stringify(b)}) = ${row[row.length - 1]}`);
console.log(`last row: ${row.join(" ")}`);
