DROP TABLE case_tasks;
DROP TABLE case_notes;
DROP TABLE case_sessions;
DROP TABLE measure_protected_persons;
DROP TABLE protected_persons;
DROP TABLE measures;
DROP TABLE case_practitioners;
DROP TABLE cases;
