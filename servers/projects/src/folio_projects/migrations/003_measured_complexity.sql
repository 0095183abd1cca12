-- Complexity is measured with lizard when hotspots are asked for (NULL: not measured yet);
-- the estimates stored before are dropped so that every figure comes from the same measure.
ALTER TABLE projects.files ALTER COLUMN complexity DROP NOT NULL;
UPDATE projects.files SET complexity = NULL WHERE complexity <> 0;
