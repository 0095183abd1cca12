from folio_profile import main

main()
