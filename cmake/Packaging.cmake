# Packaging.cmake: the install layout (FHS) and the Debian package (CPack).
#
#   cmake -S . -B build -DCMAKE_INSTALL_PREFIX=/usr && cmake --build build
#   DESTDIR=/tmp/stage cmake --install build     # or: sudo cmake --install build
#   cd build && cpack -G DEB                      # dnsmcp_<version>_amd64.deb
#
# With prefix /usr (the package) the layout is Debian's:
#   /usr/sbin/{dnsd,mcpd}
#   /etc/dnsmcp/{dnsd,mcpd}.conf                  (conffiles; from the examples)
#   /lib/systemd/system/{dnsd,mcpd}.service       (bookworm's unit directory)
#   /usr/lib/sysusers.d/dnsmcp.conf, /usr/lib/tmpfiles.d/dnsmcp.conf
#   /usr/share/man/man8/{dnsd,mcpd}.8.gz, /usr/share/man/man5/dnsmcp.conf.5.gz
#   /usr/share/dnsmcp/schema/*.sql                (for reading; the binaries embed them)
#   /usr/share/doc/dnsmcp/{README.md,*.md,copyright,examples/}
#   /var/lib/dnsmcp/zones.db                      (made by postinst, never shipped)
# With another prefix (/usr/local) everything moves under it, the units go to
# PREFIX/lib/systemd/system (systemd reads /usr/local/lib/systemd/system), and
# the units' paths are rewritten to match. Settle the prefix when configuring:
# the units are written then, so `cmake --install --prefix` cannot move them.
include(GNUInstallDirs)

set(DNSMCP_PKG_DIR ${PROJECT_SOURCE_DIR}/packaging)

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
	set(_unitdir_default /lib/systemd/system)
	set(_libdir_default /usr/lib)
else()
	set(_unitdir_default ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
	set(_libdir_default ${CMAKE_INSTALL_PREFIX}/lib)
endif()
set(DNSMCP_UNITDIR ${_unitdir_default} CACHE PATH "where the systemd units go")
set(DNSMCP_SYSUSERSDIR ${_libdir_default}/sysusers.d CACHE PATH "sysusers.d directory")
set(DNSMCP_TMPFILESDIR ${_libdir_default}/tmpfiles.d CACHE PATH "tmpfiles.d directory")
set(DNSMCP_CONFDIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/dnsmcp)
set(DNSMCP_DOCDIR ${CMAKE_INSTALL_FULL_DATAROOTDIR}/doc/dnsmcp)

# --- systemd units: the shipped files name /usr/sbin and /etc/dnsmcp; other
# prefixes get their own paths written in.
set(_gen ${PROJECT_BINARY_DIR}/packaging)
foreach(unit dnsd.service mcpd.service)
	file(READ ${DNSMCP_PKG_DIR}/${unit} _text)
	string(REPLACE "/usr/sbin/" "${CMAKE_INSTALL_FULL_SBINDIR}/" _text "${_text}")
	string(REPLACE "/etc/dnsmcp/" "${DNSMCP_CONFDIR}/" _text "${_text}")
	string(REPLACE "/usr/share/doc/dnsmcp/" "${DNSMCP_DOCDIR}/" _text "${_text}")
	file(CONFIGURE OUTPUT ${_gen}/${unit} CONTENT "${_text}" @ONLY)
	set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${DNSMCP_PKG_DIR}/${unit})
endforeach()
install(FILES ${_gen}/dnsd.service ${_gen}/mcpd.service DESTINATION ${DNSMCP_UNITDIR})
install(FILES ${DNSMCP_PKG_DIR}/dnsmcp.sysusers DESTINATION ${DNSMCP_SYSUSERSDIR}
	RENAME dnsmcp.conf)
install(FILES ${DNSMCP_PKG_DIR}/dnsmcp.tmpfiles DESTINATION ${DNSMCP_TMPFILESDIR}
	RENAME dnsmcp.conf)

# --- configuration: the examples, installed as the live files. A from-source
# install over an existing configuration keeps the admin's files (the
# package's are conffiles: dpkg asks instead).
foreach(d dnsd mcpd)
	install(CODE "
		set(_dst \"\$ENV{DESTDIR}${DNSMCP_CONFDIR}/${d}.conf\")
		if(EXISTS \"\${_dst}\")
			message(STATUS \"Keeping: \${_dst}\")
		else()
			# file(INSTALL) puts DESTDIR in front by itself
			file(INSTALL DESTINATION \"${DNSMCP_CONFDIR}\"
				TYPE FILE FILES \"${DNSMCP_PKG_DIR}/${d}.conf.example\"
				RENAME ${d}.conf PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
		endif()")
endforeach()

# --- man pages, compressed as Debian policy wants (gzip -n: reproducible).
find_program(GZIP_EXECUTABLE gzip)
set(_man_pages dnsd.8 mcpd.8 dnsmcp.conf.5)
set(_man_outputs)
foreach(page ${_man_pages})
	set(src ${PROJECT_SOURCE_DIR}/docs/man/${page})
	if(NOT EXISTS ${src})
		continue()
	endif()
	string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
	if(GZIP_EXECUTABLE)
		set(out ${_gen}/man/${page}.gz)
		add_custom_command(OUTPUT ${out}
			COMMAND ${CMAKE_COMMAND} -E make_directory ${_gen}/man
			COMMAND ${GZIP_EXECUTABLE} -9 -n -c ${src} > ${out}
			DEPENDS ${src} COMMENT "Compressing ${page}" VERBATIM)
		list(APPEND _man_outputs ${out})
		install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
	else()
		install(FILES ${src} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
	endif()
endforeach()
if(_man_outputs)
	add_custom_target(manpages ALL DEPENDS ${_man_outputs})
endif()

# --- schema (the binaries embed it; this copy is for people), docs, examples
file(GLOB _sql CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/schema/[0-9][0-9][0-9]_*.sql)
install(FILES ${_sql} ${PROJECT_SOURCE_DIR}/schema/README.md
	DESTINATION ${CMAKE_INSTALL_DATADIR}/dnsmcp/schema)
file(GLOB _docs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${_docs} DESTINATION ${DNSMCP_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${DNSMCP_DOCDIR} RENAME copyright)
install(FILES ${DNSMCP_PKG_DIR}/dnsd.conf.example ${DNSMCP_PKG_DIR}/mcpd.conf.example
	${DNSMCP_PKG_DIR}/nginx/dnsmcp.conf ${DNSMCP_PKG_DIR}/caddy/Caddyfile
	DESTINATION ${DNSMCP_DOCDIR}/examples)
if(EXISTS ${DNSMCP_PKG_DIR}/sample.zone)
	install(FILES ${DNSMCP_PKG_DIR}/sample.zone DESTINATION ${DNSMCP_DOCDIR}/examples
		RENAME example.com.zone)
endif()

# --- the Debian package -------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dnsmcp)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "the dnsmcp authors")
set(CPACK_PACKAGE_CONTACT "dnsmcp maintainers <dnsmcp@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
	"authoritative DNS server with zones in SQLite, managed over MCP")
# The body only: CPack puts the summary on the Description: line and
# indents each line of this text by one space.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "dnsmcp is two small daemons sharing one SQLite database. dnsd is an
authoritative DNS server (UDP and TCP, EDNS, NOTIFY) that serves the zones
in the database. mcpd lets people and AI agents manage those zones over the
Model Context Protocol (Streamable HTTP, bearer tokens), validating every
change and recording it in a change journal, and offers admin commands to
create the database, import and export zone files and manage tokens.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
# /etc and /lib/systemd are absolute destinations: stage them under DESTDIR.
set(CPACK_SET_DESTDIR ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # dnsmcp_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_STRIP_FILES ON)
# systemd-sysusers (systemd) or adduser makes the user; setpriv (util-linux,
# essential) runs `mcpd init` as that user.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "sqlite3")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nginx | caddy, dnsutils")
find_program(DPKG_SHLIBDEPS_EXECUTABLE dpkg-shlibdeps)
if(DPKG_SHLIBDEPS_EXECUTABLE)
	# libc6, libevent-core/-pthreads/-extra-2.1-7, libsqlite3-0, libcjson1,
	# libssl3, with the versions the binaries need.
	set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
	string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libc6 (>= 2.34), libevent-core-2.1-7 (>= 2.1.8), "
		"libevent-pthreads-2.1-7 (>= 2.1.8), libevent-extra-2.1-7 (>= 2.1.8), "
		"libsqlite3-0 (>= 3.35), libcjson1 (>= 1.7.10), libssl3 (>= 3.0.0)")
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
	${DNSMCP_PKG_DIR}/debian/postinst ${DNSMCP_PKG_DIR}/debian/prerm
	${DNSMCP_PKG_DIR}/debian/postrm ${DNSMCP_PKG_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
	message(STATUS "dnsmcp: install prefix ${CMAKE_INSTALL_PREFIX}; configure with "
		"-DCMAKE_INSTALL_PREFIX=/usr to build the Debian package (cpack -G DEB)")
endif()
include(CPack)
