-- Safe city (issue 19): the department whose staff moderate private cameras
-- (modules.SafeCityDepartment). Department staff name their department by its code; the
-- reports module's list of departments is the one list of them.
INSERT INTO reports.departments (code, name_kk, name_ru, name_en) VALUES
  ('safe_city', '«Қауіпсіз қала» орталығы', 'Центр «Безопасный город»', 'Safe City centre')
ON CONFLICT (code) DO NOTHING;
