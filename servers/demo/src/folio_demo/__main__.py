from folio_demo import main

main()
