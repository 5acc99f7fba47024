"""An assignment's letter of introduction for whoever holds its token: the A4 print
view and the one-page PDF, shown only while the letter is in force."""
