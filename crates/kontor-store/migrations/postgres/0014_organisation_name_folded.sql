-- The organisation name in lower case, for the directory's name filter. Written by the
-- application (Rust's Unicode lower case): SQLite's LOWER() only folds ASCII, so "öko" did not
-- find "Ökotec" there. Rows written before this column are folded by `Store::migrate`.
ALTER TABLE organisations ADD COLUMN name_folded TEXT NOT NULL DEFAULT '';
