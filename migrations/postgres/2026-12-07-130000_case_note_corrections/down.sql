DROP TABLE case_note_corrections;
