import sys

if sys.argv[1:2] == ["healthcheck"]:  # run every few seconds: without the service's imports
    from service.healthcheck import main

    main(sys.argv[2:])
else:
    from service.cli import main

    main()
