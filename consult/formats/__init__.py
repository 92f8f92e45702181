"""Date and number formats per language, over Django's own (``FORMAT_MODULE_PATH``).

English is the English of the UK: Django's ``en`` formats are American ("Nov. 26, 2026",
and 01/02/2026 read as 2 January), so ``en`` here takes ``en_GB``'s. ``DATE_FORMAT`` is
the long date the public pages write after "on": with its weekday in English, as
GOV.UK writes dates; without it in Welsh, where "ar ddydd Sadwrn" needs a mutation no
format can write.
"""
